  template:
    metadata:
      labels:
{{#each Values.labels}}
        {{@key}}: {{quote this}}
{{/each}}
{{#if (semverCompare ">=1.6.0-0" Chart.AppVersion)}}
        istio.io/rev: {{quote (default "default" Values.revision)}}
        service.istio.io/canonical-name: {{quote Values.name}}
        service.istio.io/canonical-revision: latest
{{/if}}
        sidecar.istio.io/inject: "false"
      annotations:
{{#each Values.podAnnotations}}
        {{@key}}: {{quote this}}
{{/each}}
        sidecar.istio.io/inject: "false"
        prometheus.io/port: "15020"
        prometheus.io/scrape: "true"
        prometheus.io/path: /stats/prometheus

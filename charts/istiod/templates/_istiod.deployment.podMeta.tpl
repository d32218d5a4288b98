  template:
    metadata:
      labels:
{{#each Values.pilot.podLabels}}
        {{@key}}: {{quote this}}
{{/each}}
        app: istiod
        istio: pilot
        istio.io/rev: {{quote (default "default" Values.revision)}}
        sidecar.istio.io/inject: "false"
      annotations:
{{#each Values.pilot.podAnnotations}}
        {{@key}}: {{quote this}}
{{/each}}
        sidecar.istio.io/inject: "false"
        prometheus.io/port: "15014"
        prometheus.io/scrape: "true"
    spec:
      serviceAccountName: {{> istiod.serviceAccountName}}
      securityContext:
        fsGroup: 1337
{{#if Values.global.imagePullSecrets}}
      imagePullSecrets:
{{#each Values.global.imagePullSecrets}}
      - name: {{this}}
{{/each}}
{{/if}}
{{#if Values.pilot.nodeSelector}}
      nodeSelector:{{nindent 8 (toYaml Values.pilot.nodeSelector)}}
{{/if}}
{{#if Values.pilot.tolerations}}
      tolerations:{{nindent 8 (toYaml Values.pilot.tolerations)}}
{{/if}}

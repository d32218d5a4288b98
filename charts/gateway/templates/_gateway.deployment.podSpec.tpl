    spec:
      serviceAccountName: {{Values.name}}-service-account
{{#if (and (semverCompare ">=1.7.0-0" Chart.AppVersion) (not Values.runAsRoot))}}
      securityContext:
        runAsUser: 1337
        runAsGroup: 1337
        runAsNonRoot: true
        fsGroup: 1337
{{/if}}
{{#if Values.global.imagePullSecrets}}
      imagePullSecrets:
{{#each Values.global.imagePullSecrets}}
      - name: {{this}}
{{/each}}
{{/if}}
{{#if Values.nodeSelector}}
      nodeSelector:{{nindent 8 (toYaml Values.nodeSelector)}}
{{/if}}
{{#if Values.tolerations}}
      tolerations:{{nindent 8 (toYaml Values.tolerations)}}
{{/if}}
      containers:
      - name: istio-proxy
        image: "{{Values.global.hub}}/{{Values.global.proxy.image}}:{{default Chart.AppVersion Values.global.tag}}"
        imagePullPolicy: {{Values.global.imagePullPolicy}}
        args:
        - proxy
        - router
        - --domain
        - $(POD_NAMESPACE).svc.{{Values.global.proxy.clusterDomain}}
        - --proxyLogLevel={{Values.global.proxy.logLevel}}
        - --proxyComponentLogLevel={{Values.global.proxy.componentLogLevel}}
        - --log_output_level={{Values.global.logging.level}}

      containers:
      - name: mixer
        image: "{{Values.global.hub}}/{{cfg.image}}:{{default Chart.AppVersion Values.global.tag}}"
        imagePullPolicy: {{Values.global.imagePullPolicy}}
        ports:
        - name: http-monitoring
          containerPort: 15014
          protocol: TCP
        - name: prometheus
          containerPort: 42422
          protocol: TCP
        args:
        - --monitoringPort=15014
        - --address
        - unix:///sock/mixer.socket
        - --log_output_level={{Values.global.logging.level}}
        - --configStoreURL=k8s://
        - --configDefaultNamespace={{Release.Namespace}}
        - --useAdapterCRDs=false
        - --useTemplateCRDs=false
        - --trace_zipkin_url=http://zipkin.{{Release.Namespace}}:9411/api/v1/spans
{{#if cfg.loadshedding}}
        - --averageLatencyThreshold
        - {{cfg.loadshedding.latencyThreshold}}
        - --loadsheddingMode
        - {{cfg.loadshedding.mode}}
{{/if}}
        env:
        - name: POD_NAMESPACE
          valueFrom:
            fieldRef:
              apiVersion: v1
              fieldPath: metadata.namespace
{{#each cfg.env}}
        - name: {{@key}}
          value: {{quote this}}
{{/each}}
        resources:{{nindent 10 (toYaml cfg.resources)}}
        livenessProbe:
          httpGet:
            path: /version
            port: 15014
          initialDelaySeconds: 5
          periodSeconds: 5
        volumeMounts:
        - name: uds-socket
          mountPath: /sock
        - name: {{type}}-adapter-secret
          mountPath: /var/run/secrets/istio.io/{{type}}/adapter
          readOnly: true

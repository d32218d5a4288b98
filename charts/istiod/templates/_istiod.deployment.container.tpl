      containers:
      - name: discovery
        image: "{{Values.global.hub}}/{{Values.pilot.image}}:{{default Chart.AppVersion Values.global.tag}}"
        imagePullPolicy: {{Values.global.imagePullPolicy}}
        args:
        - discovery
        - --monitoringAddr=:15014
        - --log_output_level={{Values.global.logging.level}}
        - --domain
        - {{Values.global.proxy.clusterDomain}}
{{#if (semverCompare "<1.8.0-0" Chart.AppVersion)}}
        - --trust-domain={{Values.global.trustDomain}}
{{/if}}
        - --keepaliveMaxServerConnectionAge
        - {{quote Values.pilot.keepaliveMaxServerConnectionAge}}
        ports:
        - name: http-debug
          containerPort: 8080
          protocol: TCP
        - name: grpc-xds
          containerPort: 15010
          protocol: TCP
        - name: https-webhooks
          containerPort: 15017
          protocol: TCP
        readinessProbe:
          httpGet:
            path: /ready
            port: 8080
          initialDelaySeconds: 1
          periodSeconds: 3
          timeoutSeconds: 5

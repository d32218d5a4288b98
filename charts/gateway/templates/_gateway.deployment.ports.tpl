        ports:
{{#each Values.ports}}
{{#unless (eq name "status-port")}}
        - name: {{name}}
          containerPort: {{> gateway.targetPort v=@root.Chart.AppVersion}}
          protocol: {{default "TCP" protocol}}
{{/unless}}
{{/each}}
        - name: status-port
          containerPort: {{#if (semverCompare ">=1.6.0-0" Chart.AppVersion)}}15021{{else}}15020{{/if}}
          protocol: TCP
        - name: http-envoy-prom
          containerPort: 15090
          protocol: TCP
        readinessProbe:
          httpGet:
            path: /healthz/ready
            port: {{#if (semverCompare ">=1.6.0-0" Chart.AppVersion)}}15021{{else}}15020{{/if}}
          initialDelaySeconds: 1
          periodSeconds: 2
          timeoutSeconds: 1
          failureThreshold: 30
        resources:{{nindent 10 (toYaml Values.resources)}}

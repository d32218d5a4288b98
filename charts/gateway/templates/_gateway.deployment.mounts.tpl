        volumeMounts:
        - name: istio-envoy
          mountPath: /etc/istio/proxy
{{#if (semverCompare ">=1.7.0-0" Chart.AppVersion)}}
        - name: istio-data
          mountPath: /var/lib/istio/data
{{/if}}
        - name: podinfo
          mountPath: /etc/istio/pod
{{#if (eq Values.global.jwtPolicy "third-party-jwt")}}
        - name: istio-token
          mountPath: /var/run/secrets/tokens
          readOnly: true
{{/if}}
{{#if (semverCompare ">=1.6.0-0" Chart.AppVersion)}}
        - name: istiod-ca-cert
          mountPath: /var/run/secrets/istio
        - name: config-volume
          mountPath: /etc/istio/config
{{else}}
        - name: istio-certs
          mountPath: /etc/certs
          readOnly: true
{{/if}}
{{#each Values.secretVolumes}}
        - name: {{name}}
          mountPath: {{quote mountPath}}
          readOnly: true
{{/each}}

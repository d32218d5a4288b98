      volumes:
      - name: istio-envoy
        emptyDir: {}
{{#if (semverCompare ">=1.7.0-0" Chart.AppVersion)}}
      - name: istio-data
        emptyDir: {}
{{/if}}
      - name: podinfo
        downwardAPI:
          items:
          - path: labels
            fieldRef:
              fieldPath: metadata.labels
          - path: annotations
            fieldRef:
              fieldPath: metadata.annotations
{{#if (eq Values.global.jwtPolicy "third-party-jwt")}}
      - name: istio-token
        projected:
          sources:
          - serviceAccountToken:
              audience: istio-ca
              expirationSeconds: 43200
              path: istio-token
{{/if}}
{{#if (semverCompare ">=1.6.0-0" Chart.AppVersion)}}
      # Root certificate istiod publishes into every namespace.
      - name: istiod-ca-cert
        configMap:
          name: istio-ca-root-cert
      # Mesh configuration (proxy defaults, discovery address) of the revision the gateway follows.
      - name: config-volume
        configMap:
          name: istio{{#if Values.revision}}-{{Values.revision}}{{/if}}
          optional: true
{{else}}
      # Citadel-issued certificates of 1.4-era installs, if any are still being written.
      - name: istio-certs
        secret:
          secretName: istio.{{Values.name}}-service-account
          optional: true
{{/if}}
{{#each Values.secretVolumes}}
      - name: {{name}}
        secret:
          secretName: {{secretName}}
          optional: true
{{/each}}

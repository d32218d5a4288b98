        env:
        - name: JWT_POLICY
          value: {{Values.global.jwtPolicy}}
        - name: PILOT_CERT_PROVIDER
          value: {{Values.global.pilotCertProvider}}
        - name: CA_ADDR
          value: istiod.{{Values.global.istioNamespace}}.svc:15012
        - name: POD_NAME
          valueFrom:
            fieldRef:
              apiVersion: v1
              fieldPath: metadata.name
        - name: POD_NAMESPACE
          valueFrom:
            fieldRef:
              apiVersion: v1
              fieldPath: metadata.namespace
        - name: INSTANCE_IP
          valueFrom:
            fieldRef:
              apiVersion: v1
              fieldPath: status.podIP
        - name: SERVICE_ACCOUNT
          valueFrom:
            fieldRef:
              fieldPath: spec.serviceAccountName
        resources:{{nindent 10 (toYaml Values.global.proxy.resources)}}
        volumeMounts:
        - name: envoy-config
          mountPath: /var/lib/envoy
        - name: uds-socket
          mountPath: /sock
        - name: istio-envoy
          mountPath: /etc/istio/proxy
        - name: istiod-ca-cert
          mountPath: /var/run/secrets/istio
{{#if (eq Values.global.jwtPolicy "third-party-jwt")}}
        - name: istio-token
          mountPath: /var/run/secrets/tokens
          readOnly: true
{{/if}}

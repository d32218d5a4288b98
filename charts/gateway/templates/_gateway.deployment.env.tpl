        env:
        - name: JWT_POLICY
          value: {{Values.global.jwtPolicy}}
        - name: PILOT_CERT_PROVIDER
          value: {{Values.global.pilotCertProvider}}
        - name: CA_ADDR
          value: istiod{{#if Values.revision}}-{{Values.revision}}{{/if}}.{{Values.global.istioNamespace}}.svc:15012
        - name: NODE_NAME
          valueFrom:
            fieldRef:
              apiVersion: v1
              fieldPath: spec.nodeName
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
        - name: HOST_IP
          valueFrom:
            fieldRef:
              apiVersion: v1
              fieldPath: status.hostIP
        - name: SERVICE_ACCOUNT
          valueFrom:
            fieldRef:
              fieldPath: spec.serviceAccountName

        env:
        - name: REVISION
          value: {{quote (default "default" Values.revision)}}
        - name: JWT_POLICY
          value: {{Values.global.jwtPolicy}}
        - name: PILOT_CERT_PROVIDER
          value: {{Values.global.pilotCertProvider}}
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
        - name: SERVICE_ACCOUNT
          valueFrom:
            fieldRef:
              apiVersion: v1
              fieldPath: spec.serviceAccountName
{{#if (semverCompare ">=1.6.0-0" Chart.AppVersion)}}
        - name: KUBECONFIG
          value: /var/run/secrets/remote/config
{{/if}}
{{#unless (hasKey Values.pilot.env "PILOT_TRACE_SAMPLING")}}
        - name: PILOT_TRACE_SAMPLING
          value: {{quote Values.pilot.traceSampling}}
{{/unless}}
{{#unless (hasKey Values.pilot.env "PILOT_ENABLE_PROTOCOL_SNIFFING_FOR_OUTBOUND")}}
        - name: PILOT_ENABLE_PROTOCOL_SNIFFING_FOR_OUTBOUND
          value: "true"
{{/unless}}
{{#unless (hasKey Values.pilot.env "PILOT_ENABLE_PROTOCOL_SNIFFING_FOR_INBOUND")}}
        - name: PILOT_ENABLE_PROTOCOL_SNIFFING_FOR_INBOUND
          value: "true"
{{/unless}}

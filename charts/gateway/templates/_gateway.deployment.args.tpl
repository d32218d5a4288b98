{{#if (semverCompare "<1.11.0-0" Chart.AppVersion)}}
        - --serviceCluster
        - {{Values.name}}
{{/if}}
{{#if (semverCompare "<1.6.0-0" Chart.AppVersion)}}
        - --drainDuration
        - 45s
        - --parentShutdownDuration
        - 1m0s
        - --connectTimeout
        - 10s
        - --proxyAdminPort
        - "15000"
        - --statusPort
        - "15020"
        - --controlPlaneAuthPolicy
        - NONE
        - --discoveryAddress
        - istiod.{{Values.global.istioNamespace}}.svc:15012
        - --trust-domain={{Values.global.trustDomain}}
{{/if}}
{{#if (semverCompare ">=1.7.0-0" Chart.AppVersion)}}
        securityContext:
          allowPrivilegeEscalation: false
          privileged: false
          readOnlyRootFilesystem: true
          capabilities:
            drop:
            - ALL
{{/if}}

{{#if (semverCompare "<1.6.0-0" Chart.AppVersion)}}
        - name: ISTIO_META_POD_NAME
          valueFrom:
            fieldRef:
              apiVersion: v1
              fieldPath: metadata.name
        - name: ISTIO_META_CONFIG_NAMESPACE
          valueFrom:
            fieldRef:
              fieldPath: metadata.namespace
{{#if Values.sds.enabled}}
        # Gateway certificates from credentialName Secrets over SDS (istio-agent serves them in istiod mode).
        - name: ISTIO_META_USER_SDS
          value: "true"
{{/if}}
{{/if}}
        - name: ISTIO_META_WORKLOAD_NAME
          value: {{Values.name}}
        - name: ISTIO_META_OWNER
          value: kubernetes://apis/apps/v1/namespaces/{{Release.Namespace}}/deployments/{{Values.name}}
        - name: ISTIO_META_MESH_ID
          value: {{quote (default Values.global.trustDomain Values.global.meshID)}}
        - name: TRUST_DOMAIN
          value: {{quote Values.global.trustDomain}}
{{#if (and (semverCompare ">=1.7.0-0" Chart.AppVersion) (not Values.runAsRoot))}}
        - name: ISTIO_META_UNPRIVILEGED_POD
          value: "true"
{{/if}}
{{#unless (hasKey Values.env "ISTIO_META_ROUTER_MODE")}}
        - name: ISTIO_META_ROUTER_MODE
          value: sni-dnat
{{/unless}}
        - name: ISTIO_META_CLUSTER_ID
          value: {{quote (default "Kubernetes" Values.global.multiCluster.clusterName)}}
{{#if Values.global.network}}
        - name: ISTIO_META_NETWORK
          value: {{quote Values.global.network}}
{{/if}}
{{#each Values.env}}
        - name: {{@key}}
          value: {{quote this}}
{{/each}}

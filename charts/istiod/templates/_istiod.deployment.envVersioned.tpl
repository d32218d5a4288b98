{{#if (semverCompare ">=1.6.0-0 <1.8.0-0" Chart.AppVersion)}}
        - name: PILOT_EXTERNAL_GALLEY
          value: "false"
{{/if}}
{{#if (semverCompare ">=1.6.0-0" Chart.AppVersion)}}
{{#unless (hasKey Values.pilot.env "PILOT_ENABLE_ANALYSIS")}}
        - name: PILOT_ENABLE_ANALYSIS
          value: "false"
{{/unless}}
{{/if}}
{{#if (semverCompare ">=1.8.0-0" Chart.AppVersion)}}
{{#unless (hasKey Values.pilot.env "CLUSTER_ID")}}
        - name: CLUSTER_ID
          value: {{quote (default "Kubernetes" Values.global.multiCluster.clusterName)}}
{{/unless}}
{{/if}}
{{#if (semverCompare ">=1.29.0-0" Chart.AppVersion)}}
        - name: GOMEMLIMIT
          valueFrom:
            resourceFieldRef:
              resource: limits.memory
        - name: GOMAXPROCS
          valueFrom:
            resourceFieldRef:
              resource: limits.cpu
{{/if}}
{{!-- pilot.env entries replace the defaults above of the same name. --}}
{{#each Values.pilot.env}}
        - name: {{@key}}
          value: {{quote this}}
{{/each}}

        - name: INJECTION_WEBHOOK_CONFIG_NAME
          value: istio-sidecar-injector{{#if Values.revision}}-{{Values.revision}}{{/if}}{{#unless (eq Release.Namespace "istio-system")}}-{{Release.Namespace}}{{/unless}}
        - name: VALIDATION_WEBHOOK_CONFIG_NAME
{{#if (semverCompare ">=1.11.0-0" Chart.AppVersion)}}
          value: istio-validator{{#if Values.revision}}-{{Values.revision}}{{/if}}-{{Release.Namespace}}
{{else if Values.revision}}
          value: ""
{{else}}
          value: istiod-{{Release.Namespace}}
{{/if}}
        - name: ISTIOD_ADDR
          value: istiod{{#if Values.revision}}-{{Values.revision}}{{/if}}.{{Release.Namespace}}.svc:15012

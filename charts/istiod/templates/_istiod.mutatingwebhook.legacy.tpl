- name: sidecar-injector.istio.io
  {{> istiod.injectionWebhook}}
  namespaceSelector:
{{#if Values.revision}}
    matchExpressions:
    - key: istio-injection
      operator: DoesNotExist
    - key: istio.io/rev
      operator: In
      values:
      - {{quote Values.revision}}
{{else if Values.sidecarInjectorWebhook.enableNamespacesByDefault}}
    matchExpressions:
    - key: name
      operator: NotIn
      values:
      - {{Release.Namespace}}
    - key: istio-injection
      operator: NotIn
      values:
      - disabled
    - key: istio-env
      operator: DoesNotExist
    - key: istio.io/rev
      operator: DoesNotExist
{{else}}
    matchLabels:
      istio-injection: enabled
{{/if}}
{{#if (and Values.sidecarInjectorWebhook.objectSelector.enabled (semverCompare ">=1.6.0-0" Chart.AppVersion))}}
  objectSelector:
    matchExpressions:
{{#if Values.sidecarInjectorWebhook.objectSelector.autoInject}}
    - key: sidecar.istio.io/inject
      operator: NotIn
      values:
      - "false"
{{else}}
    - key: sidecar.istio.io/inject
      operator: In
      values:
      - "true"
{{/if}}
{{/if}}

{{#unless Values.revision}}
- name: namespace.sidecar-injector.istio.io
  {{> istiod.injectionWebhook}}
  namespaceSelector:
    matchExpressions:
{{#if Values.sidecarInjectorWebhook.enableNamespacesByDefault}}
    - key: istio-injection
      operator: NotIn
      values:
      - disabled
    - key: istio.io/rev
      operator: DoesNotExist
    - key: kubernetes.io/metadata.name
      operator: NotIn
      values:
      - {{Release.Namespace}}
{{else}}
    - key: istio-injection
      operator: In
      values:
      - enabled
{{/if}}
  objectSelector:
    matchExpressions:
    - key: sidecar.istio.io/inject
      operator: NotIn
      values:
      - "false"
{{#unless Values.sidecarInjectorWebhook.enableNamespacesByDefault}}
- name: object.sidecar-injector.istio.io
  {{> istiod.injectionWebhook}}
  namespaceSelector:
    matchExpressions:
    - key: istio-injection
      operator: DoesNotExist
    - key: istio.io/rev
      operator: DoesNotExist
  objectSelector:
    matchExpressions:
    - key: sidecar.istio.io/inject
      operator: In
      values:
      - "true"
    - key: istio.io/rev
      operator: DoesNotExist
{{/unless}}
{{/unless}}

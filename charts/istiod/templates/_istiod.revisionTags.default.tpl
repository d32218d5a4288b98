{{#if (and (eq this "default") @root.Values.revision (semverCompare ">=1.12.0-0" @root.Chart.AppVersion))}}
- name: namespace.sidecar-injector.istio.io
  {{> istiod.injectionWebhook Values=@root.Values Release=@root.Release Chart=@root.Chart}}
  namespaceSelector:
    matchExpressions:
    - key: istio-injection
      operator: In
      values:
      - enabled
  objectSelector:
    matchExpressions:
    - key: sidecar.istio.io/inject
      operator: NotIn
      values:
      - "false"
- name: object.sidecar-injector.istio.io
  {{> istiod.injectionWebhook Values=@root.Values Release=@root.Release Chart=@root.Chart}}
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
{{/if}}

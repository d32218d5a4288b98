apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: istiod-default-validator
  labels:
    app: istiod
    release: {{Release.Name}}
    istio: istiod
    istio.io/rev: {{quote Values.defaultRevision}}
{{#if (semverCompare ">=1.24.0-0" Chart.AppVersion)}}
    app.kubernetes.io/name: istiod
    {{> base-istio-labels}}
{{/if}}
webhooks:
- name: validation.istio.io
  clientConfig:
    service:
      {{> base-validation-service}}
  rules:
  - operations:
    - CREATE
    - UPDATE
    apiGroups:
    - security.istio.io
    - networking.istio.io
    - telemetry.istio.io
    - extensions.istio.io
    apiVersions:
    - "*"
    resources:
    - "*"
  failurePolicy: Ignore
  sideEffects: None
  admissionReviewVersions:
{{#if (semverCompare "<1.13.0-0" Chart.AppVersion)}}
  - v1beta1
{{/if}}
  - v1

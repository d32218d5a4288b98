clientConfig:
  service:
    name: istiod{{#if Values.revision}}-{{Values.revision}}{{/if}}
    namespace: {{Release.Namespace}}
    path: /validate
rules:
- operations:
  - CREATE
  - UPDATE
  apiGroups:
  - security.istio.io
  - networking.istio.io
  - telemetry.istio.io
{{#if (semverCompare ">=1.12.0-0" Chart.AppVersion)}}
  - extensions.istio.io
{{/if}}
  apiVersions:
  - "*"
  resources:
  - "*"
failurePolicy: Ignore
sideEffects: None
admissionReviewVersions:
- v1beta1
- v1

{{!-- The parts every sidecar-injection webhook shares: where it calls, what it intercepts, how it fails. --}}
clientConfig:
{{#if Values.istiodRemote.enabled}}
  url: "https://{{required "set global.remotePilotAddress to the address of the remote istiod" Values.global.remotePilotAddress}}:15017/inject"
{{else}}
  service:
    name: istiod{{#if Values.revision}}-{{Values.revision}}{{/if}}
    namespace: {{Release.Namespace}}
    path: /inject
    port: 443
{{/if}}
rules:
- operations:
  - CREATE
  apiGroups:
  - ""
  apiVersions:
  - v1
  resources:
  - pods
failurePolicy: Fail
sideEffects: None
admissionReviewVersions:
{{#if (semverCompare ">=1.8.0-0" Chart.AppVersion)}}
- v1beta1
- v1
{{else}}
- v1beta1
{{/if}}

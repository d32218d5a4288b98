- apiGroups:
  - config.istio.io
  - security.istio.io
  - networking.istio.io
  - authentication.istio.io
  - rbac.istio.io
{{#if (semverCompare ">=1.11.0-0" Chart.AppVersion)}}
  - telemetry.istio.io
{{/if}}
{{#if (semverCompare ">=1.12.0-0" Chart.AppVersion)}}
  - extensions.istio.io
{{/if}}
  resources: ["*"]
  verbs: ["get", "list", "watch"]
- apiGroups: [""]
  resources:
  - endpoints
  - pods
  - services
  - nodes
  - replicationcontrollers
{{#if (semverCompare ">=1.6.0-0" Chart.AppVersion)}}
  - namespaces
{{/if}}
{{#if (semverCompare ">=1.11.0-0" Chart.AppVersion)}}
  - secrets
{{/if}}
  verbs: ["get", "list", "watch"]
- apiGroups: ["apps"]
  resources: ["replicasets"]
  verbs: ["get", "list", "watch"]
{{#if (semverCompare ">=1.11.0-0" Chart.AppVersion)}}
- apiGroups: ["discovery.k8s.io"]
  resources: ["endpointslices"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["apiextensions.k8s.io"]
  resources: ["customresourcedefinitions"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["authentication.k8s.io"]
  resources: ["tokenreviews"]
  verbs: ["create"]
- apiGroups: ["authorization.k8s.io"]
  resources: ["subjectaccessreviews"]
  verbs: ["create"]
{{/if}}
{{#if (semverCompare ">=1.22.0-0" Chart.AppVersion)}}
- apiGroups: ["gateway.networking.k8s.io", "gateway.networking.x-k8s.io"]
  resources: ["*"]
  verbs: ["get", "list", "watch"]
{{/if}}

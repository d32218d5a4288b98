apiVersion: config.istio.io/v1alpha2
kind: rule
metadata:
  name: kubeattrgenrulerule
  namespace: {{Release.Namespace}}
  labels:
    app: mixer
    release: {{Release.Name}}
spec:
  actions:
  - handler: kubernetesenv
    instances:
    - attributes
---
apiVersion: config.istio.io/v1alpha2
kind: rule
metadata:
  name: tcpkubeattrgenrulerule
  namespace: {{Release.Namespace}}
  labels:
    app: mixer
    release: {{Release.Name}}
spec:
  match: context.protocol == "tcp"
  actions:
  - handler: kubernetesenv
    instances:
    - attributes

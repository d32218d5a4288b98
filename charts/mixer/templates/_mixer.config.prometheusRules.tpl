apiVersion: config.istio.io/v1alpha2
kind: rule
metadata:
  name: promhttp
  namespace: {{Release.Namespace}}
  labels:
    app: mixer
    release: {{Release.Name}}
spec:
  match: '(context.protocol == "http" || context.protocol == "grpc") && (match((request.useragent | "-"), "kube-probe*") == false) && (match((request.useragent | "-"), "Prometheus*") == false)'
  actions:
  - handler: prometheus
    instances:
    - requestcount
    - requestduration
    - requestsize
    - responsesize
---
apiVersion: config.istio.io/v1alpha2
kind: rule
metadata:
  name: promtcp
  namespace: {{Release.Namespace}}
  labels:
    app: mixer
    release: {{Release.Name}}
spec:
  match: context.protocol == "tcp"
  actions:
  - handler: prometheus
    instances:
    - tcpbytereceived
    - tcpbytesent

{{!-- One Mixer deployment. Hash: type (policy | telemetry), cfg (Values.policy | Values.telemetry). --}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: istio-{{type}}
  namespace: {{Release.Namespace}}
  labels:
    app: istio-mixer
    istio: mixer
    istio-mixer-type: {{type}}
    release: {{Release.Name}}
spec:
{{#unless cfg.autoscaleEnabled}}
  replicas: {{cfg.replicaCount}}
{{/unless}}
  strategy:
    rollingUpdate:
      maxSurge: 100%
      maxUnavailable: 25%
  selector:
    matchLabels:
      istio: mixer
      istio-mixer-type: {{type}}
  template:
    metadata:
      labels:
        app: {{type}}
        istio: mixer
        istio-mixer-type: {{type}}
      annotations:
        sidecar.istio.io/inject: "false"
        prometheus.io/port: "15014"
        prometheus.io/scrape: "true"
    spec:
      serviceAccountName: istio-mixer-service-account
{{#if Values.global.imagePullSecrets}}
      imagePullSecrets:
{{#each Values.global.imagePullSecrets}}
      - name: {{this}}
{{/each}}
{{/if}}
{{> mixer.deployment.mixerContainer}}
{{> mixer.deployment.proxyContainer}}
{{> mixer.deployment.proxyEnv}}
{{> mixer.deployment.volumes}}

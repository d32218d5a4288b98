{{!-- The per-version defaults of the mesh ConfigMap, as YAML; configmap.yaml merges meshConfig over them. --}}
accessLogFile: ""
accessLogEncoding: TEXT
accessLogFormat: ""
enableTracing: true
enableAutoMtls: true
trustDomain: {{quote Values.global.trustDomain}}
trustDomainAliases: []
rootNamespace: {{quote Release.Namespace}}
ingressService: istio-ingressgateway
ingressControllerMode: STRICT
ingressClass: istio
connectTimeout: 10s
outboundTrafficPolicy:
  mode: ALLOW_ANY
{{#if (semverCompare ">=1.7.0-0" Chart.AppVersion)}}
enablePrometheusMerge: true
{{else if (semverCompare ">=1.6.0-0" Chart.AppVersion)}}
enablePrometheusMerge: false
{{/if}}
{{#if (semverCompare "<1.8.0-0" Chart.AppVersion)}}
disablePolicyChecks: true
policyCheckFailOpen: false
disableMixerHttpReports: {{#if Values.telemetry.v2.enabled}}true{{else}}false{{/if}}
reportBatchMaxEntries: 100
reportBatchMaxTime: 1s
sidecarToTelemetrySessionAffinity: false
{{/if}}
{{#if (semverCompare "<1.6.0-0" Chart.AppVersion)}}
sdsUdsPath: "unix:/etc/istio/proxy/SDS"
{{/if}}
defaultConfig:
{{#if Values.istiodRemote.enabled}}
  discoveryAddress: "{{required "istiodRemote.enabled needs global.remotePilotAddress: set it to the address of the remote istiod" Values.global.remotePilotAddress}}:15012"
{{else}}
  discoveryAddress: "istiod{{#if Values.revision}}-{{Values.revision}}{{/if}}.{{Release.Namespace}}.svc:15012"
{{/if}}
{{#if Values.global.meshID}}
  meshId: {{quote Values.global.meshID}}
{{/if}}
  tracing:
    zipkin:
      address: "zipkin.{{Release.Namespace}}:9411"
{{#if (semverCompare "<1.6.0-0" Chart.AppVersion)}}
  connectTimeout: 10s
  configPath: ./etc/istio/proxy
  binaryPath: /usr/local/bin/envoy
  serviceCluster: istio-proxy
  drainDuration: 45s
  parentShutdownDuration: 1m0s
  proxyAdminPort: 15000
  concurrency: 2
  controlPlaneAuthPolicy: NONE
  statusPort: 15020
{{/if}}

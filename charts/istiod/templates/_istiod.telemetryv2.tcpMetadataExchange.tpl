apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata:
  name: tcp-metadata-exchange-{{v}}{{#if (and Values.revision (semverCompare ">=1.6.0-0" Chart.AppVersion))}}-{{Values.revision}}{{/if}}
  namespace: {{Release.Namespace}}
{{#if (semverCompare ">=1.6.0-0" Chart.AppVersion)}}
  labels:
    istio.io/rev: {{quote (default "default" Values.revision)}}
{{/if}}
spec:
  configPatches:
  - applyTo: NETWORK_FILTER
    match:
      context: SIDECAR_INBOUND
      proxy:
        proxyVersion: '^1\.{{minor}}.*'
      listener: {}
    patch:
      operation: INSERT_BEFORE
      value:
        {{> istiod.tcpMetadataExchange}}
  - applyTo: CLUSTER
    match:
      context: SIDECAR_OUTBOUND
      proxy:
        proxyVersion: '^1\.{{minor}}.*'
      cluster: {}
    patch:
      operation: MERGE
      value:
        filters:
        -
          {{> istiod.tcpMetadataExchange}}
  - applyTo: CLUSTER
    match:
      context: GATEWAY
      proxy:
        proxyVersion: '^1\.{{minor}}.*'
      cluster: {}
    patch:
      operation: MERGE
      value:
        filters:
        -
          {{> istiod.tcpMetadataExchange}}

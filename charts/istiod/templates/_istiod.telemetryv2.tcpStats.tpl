apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata:
  name: tcp-stats-filter-{{v}}{{#if (and Values.revision (semverCompare ">=1.6.0-0" Chart.AppVersion))}}-{{Values.revision}}{{/if}}
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
      {{> istiod.statsTcpMatch}}
    patch:
      operation: INSERT_BEFORE
      value:
{{#if (semverCompare ">=1.7.0-0" Chart.AppVersion)}}
        {{> istiod.statsTcpFilter root="stats_inbound" vm="tcp_stats_inbound" override=Values.telemetry.v2.prometheus.configOverride.inboundSidecar}}
{{else}}
        {{> istiod.statsTcpFilter root="stats_inbound" vm="tcp_stats_inbound"}}
{{/if}}
  - applyTo: NETWORK_FILTER
    match:
      context: SIDECAR_OUTBOUND
      {{> istiod.statsTcpMatch}}
    patch:
      operation: INSERT_BEFORE
      value:
{{#if (semverCompare ">=1.7.0-0" Chart.AppVersion)}}
        {{> istiod.statsTcpFilter root="stats_outbound" vm="tcp_stats_outbound" override=Values.telemetry.v2.prometheus.configOverride.outboundSidecar}}
{{else}}
        {{> istiod.statsTcpFilter root="stats_outbound" vm="tcp_stats_outbound"}}
{{/if}}
  - applyTo: NETWORK_FILTER
    match:
      context: GATEWAY
      {{> istiod.statsTcpMatch}}
    patch:
      operation: INSERT_BEFORE
      value:
{{#if (semverCompare ">=1.7.0-0" Chart.AppVersion)}}
        {{> istiod.statsTcpFilter root="stats_outbound" vm="tcp_stats_outbound" override=Values.telemetry.v2.prometheus.configOverride.gateway}}
{{else}}
        {{> istiod.statsTcpFilter root="stats_outbound" vm="tcp_stats_outbound"}}
{{/if}}

apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata:
  name: stats-filter-{{v}}{{#if (and Values.revision (semverCompare ">=1.6.0-0" Chart.AppVersion))}}-{{Values.revision}}{{/if}}
  namespace: {{Release.Namespace}}
{{#if (semverCompare ">=1.6.0-0" Chart.AppVersion)}}
  labels:
    istio.io/rev: {{quote (default "default" Values.revision)}}
{{/if}}
spec:
  configPatches:
  - applyTo: HTTP_FILTER
    match:
      context: SIDECAR_OUTBOUND
      {{> istiod.statsHttpMatch}}
    patch:
      operation: INSERT_BEFORE
      value:
{{#if (semverCompare ">=1.7.0-0" Chart.AppVersion)}}
        {{> istiod.statsHttpFilter root="stats_outbound" json='{"debug": "false", "stat_prefix": "istio"}' override=Values.telemetry.v2.prometheus.configOverride.outboundSidecar}}
{{else}}
        {{> istiod.statsHttpFilter root="stats_outbound" json='{"debug": "false", "stat_prefix": "istio"}'}}
{{/if}}
  - applyTo: HTTP_FILTER
    match:
      context: SIDECAR_INBOUND
      {{> istiod.statsHttpMatch}}
    patch:
      operation: INSERT_BEFORE
      value:
{{#if (semverCompare ">=1.7.0-0" Chart.AppVersion)}}
        {{> istiod.statsHttpFilter root="stats_inbound" json='{"debug": "false", "stat_prefix": "istio"}' override=Values.telemetry.v2.prometheus.configOverride.inboundSidecar}}
{{else}}
        {{> istiod.statsHttpFilter root="stats_inbound" json='{"debug": "false", "stat_prefix": "istio"}'}}
{{/if}}
  - applyTo: HTTP_FILTER
    match:
      context: GATEWAY
      {{> istiod.statsHttpMatch}}
    patch:
      operation: INSERT_BEFORE
      value:
{{#if (semverCompare ">=1.7.0-0" Chart.AppVersion)}}
        {{> istiod.statsHttpFilter root="stats_outbound" json='{"debug": "false", "stat_prefix": "istio", "disable_host_header_fallback": true}' override=Values.telemetry.v2.prometheus.configOverride.gateway}}
{{else}}
        {{> istiod.statsHttpFilter root="stats_outbound" json='{"debug": "false", "stat_prefix": "istio", "disable_host_header_fallback": true}'}}
{{/if}}

{{!-- Values the injection templates read besides the chart's own (merged into the `values` key). --}}
global:
  tag: {{quote (default Chart.AppVersion Values.global.tag)}}
  proxy:
    # sailplan additions: the agent's status port and the port of the sidecar readiness probe.
    statusPort: 15020
    readinessPort: {{#if (semverCompare ">=1.6.0-0" Chart.AppVersion)}}15021{{else}}15020{{/if}}
istio_cni:
  enabled: false
# Istio 1.9 and 1.10 record the revision as a pod label from the template (1.6-1.8 patch it in from
# the webhook, 1.11+ write it into the sidecar.istio.io/status annotation instead).
podRevisionLabel: {{#if (semverCompare ">=1.9.0-0 <1.11.0-0" Chart.AppVersion)}}true{{else}}false{{/if}}

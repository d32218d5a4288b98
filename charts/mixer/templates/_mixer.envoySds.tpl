api_config_source:
  api_type: GRPC
{{#if (semverCompare ">=1.7.0-0" Chart.AppVersion)}}
  transport_api_version: V3
{{/if}}
  grpc_services:
  - envoy_grpc:
      cluster_name: sds-grpc
{{#if (semverCompare ">=1.7.0-0" Chart.AppVersion)}}
resource_api_version: V3
{{/if}}

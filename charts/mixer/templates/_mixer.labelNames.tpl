{{!-- Prometheus label names of the standard metrics. Hash: tcp. --}}
- reporter
- source_app
- source_principal
- source_workload
- source_workload_namespace
- source_version
- destination_app
- destination_principal
- destination_workload
- destination_workload_namespace
- destination_version
- destination_service
- destination_service_name
- destination_service_namespace
{{#unless tcp}}
- request_protocol
- response_code
{{/unless}}
- response_flags
- connection_security_policy

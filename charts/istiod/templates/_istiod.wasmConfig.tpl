{{!--
  The `value` of a TypedStruct wrapping a null-VM Wasm filter config. Hash: v (proxy minor, "1.6"),
  root (root_id, optional), vm (vm_id, optional), code (the built-in extension), json (the
  configuration JSON, one line), override (optional: a configuration object that replaces json,
  e.g. telemetry.v2.prometheus.configOverride.*).
--}}
config:
{{#if root}}
  root_id: {{root}}
{{/if}}
{{#if (semverCompare "<1.7.0-0" v)}}
  configuration: {{#if override}}{{toJson (toJson override)}}{{else}}{{squote json}}{{/if}}
{{else}}
  configuration:
    "@type": type.googleapis.com/google.protobuf.StringValue
    value: {{#if override}}{{toJson (toJson override)}}{{else}}{{squote json}}{{/if}}
{{/if}}
  vm_config:
{{#if vm}}
    vm_id: {{vm}}
{{/if}}
    runtime: envoy.wasm.runtime.null
    code:
      local:
        inline_string: {{code}}

{{!--
  The `value` of a TypedStruct wrapping a null-VM Wasm filter config. Hash: v (proxy minor, "1.6"),
  root (root_id, optional), vm (vm_id, optional), code (the built-in extension), json (the
  configuration JSON, one line).
--}}
config:
{{#if root}}
  root_id: {{root}}
{{/if}}
{{#if (semverCompare "<1.7.0-0" v)}}
  configuration: {{squote json}}
{{else}}
  configuration:
    "@type": type.googleapis.com/google.protobuf.StringValue
    value: {{squote json}}
{{/if}}
  vm_config:
{{#if vm}}
    vm_id: {{vm}}
{{/if}}
    runtime: envoy.wasm.runtime.null
    code:
      local:
        inline_string: {{code}}

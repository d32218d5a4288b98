{{#if (or (not Values.defaultRevision) (eq Values.defaultRevision "default"))}}
name: istiod
{{else}}
name: istiod-{{Values.defaultRevision}}
{{/if}}
namespace: {{Release.Namespace}}
path: /validate
port: 443

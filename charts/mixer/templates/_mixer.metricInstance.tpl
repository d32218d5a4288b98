{{!-- A metric instance. Hash: name, value (attribute expression), tcp (use TCP dimensions). --}}
apiVersion: config.istio.io/v1alpha2
kind: instance
metadata:
  name: {{name}}
  namespace: {{Release.Namespace}}
  labels:
    app: mixer
    release: {{Release.Name}}
spec:
  compiledTemplate: metric
  params:
    value: {{squote value}}
    dimensions:
{{#if tcp}}
      {{> mixer.tcpDimensions}}
{{else}}
      {{> mixer.httpDimensions}}
{{/if}}
    monitored_resource_type: '"UNSPECIFIED"'

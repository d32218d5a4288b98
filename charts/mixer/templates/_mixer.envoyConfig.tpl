{{!--
  ConfigMap <type>-envoy-config: the bootstrap pilot-agent starts Mixer's Envoy with
  (--templateFile). Envoy terminates mTLS on 15004 (certificates over SDS from the agent) and
  plaintext on 9091, forwarding both to Mixer's unix socket; 15090 serves Envoy's Prometheus stats.
  Envoy v2 API names for 1.5/1.6, v3 for 1.7. Hash: type.
--}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{type}}-envoy-config
  namespace: {{Release.Namespace}}
  labels:
    app: {{type}}
    istio: mixer
    release: {{Release.Name}}
data:
  envoy.yaml.tmpl: |-
{{> mixer.envoyConfig.clusters}}
{{> mixer.envoyConfig.listeners}}
{{> mixer.envoyConfig.promListener}}

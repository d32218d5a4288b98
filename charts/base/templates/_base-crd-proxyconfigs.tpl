apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: proxyconfigs.networking.istio.io
  annotations:
    helm.sh/resource-policy: keep
  labels:
    {{> base-crd-labels app="istio-pilot"}}
spec:
  group: networking.istio.io
  names:
    kind: ProxyConfig
    listKind: ProxyConfigList
    plural: proxyconfigs
    singular: proxyconfig
    categories:
    - istio-io
    - networking-istio-io
  scope: Namespaced
  versions:
  {{> base-crd-version name="v1beta1" storage=true schema="base-schema-proxyconfig"}}

apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: virtualservices.networking.istio.io
  annotations:
    helm.sh/resource-policy: keep
  labels:
    {{> base-crd-labels app="istio-pilot"}}
spec:
  group: networking.istio.io
  names:
    kind: VirtualService
    listKind: VirtualServiceList
    plural: virtualservices
    singular: virtualservice
    shortNames:
    - vs
    categories:
    - istio-io
    - networking-istio-io
  scope: Namespaced
  versions:
  {{> base-networking-versions schema="base-schema-virtualservice" columns="base-cols-virtualservice" beta=">=1.5.0-0"}}

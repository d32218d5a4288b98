apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: sidecars.networking.istio.io
  annotations:
    helm.sh/resource-policy: keep
  labels:
    {{> base-crd-labels app="istio-pilot"}}
spec:
  group: networking.istio.io
  names:
    kind: Sidecar
    listKind: SidecarList
    plural: sidecars
    singular: sidecar
    categories:
    - istio-io
    - networking-istio-io
  scope: Namespaced
  versions:
  {{> base-networking-versions schema="base-schema-sidecar" columns="base-col-age" beta=">=1.5.0-0"}}

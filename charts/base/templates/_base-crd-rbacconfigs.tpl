apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: rbacconfigs.rbac.istio.io
  annotations:
    helm.sh/resource-policy: keep
  labels:
    {{> base-crd-labels app="mixer" istio="rbac" package="istio.io.mixer"}}
spec:
  group: rbac.istio.io
  names:
    kind: RbacConfig
    listKind: RbacConfigList
    plural: rbacconfigs
    singular: rbacconfig
    categories:
    - istio-io
    - rbac-istio-io
  scope: Namespaced
  versions:
  {{> base-crd-version name="v1alpha1" storage=true schema="base-schema-rbacconfig"}}

description: A WebAssembly extension loaded into the proxies it selects.
type: object
x-kubernetes-preserve-unknown-fields: true
properties:
  selector:
    {{> base-schema-match-labels}}
  url:
    description: Where the module comes from (oci://, http(s):// or file://).
    type: string
  sha256:
    type: string
  imagePullPolicy:
    type: string
    enum:
    - UNSPECIFIED_POLICY
    - IfNotPresent
    - Always
  imagePullSecret:
    type: string
  pluginName:
    type: string
  pluginConfig:
    description: Configuration handed to the plugin (free form).
    type: object
    x-kubernetes-preserve-unknown-fields: true
  phase:
    type: string
    enum:
    - UNSPECIFIED_PHASE
    - AUTHN
    - AUTHZ
    - STATS
  priority:
    type: integer
    nullable: true
  verificationKey:
    type: string
  vmConfig:
    type: object
    x-kubernetes-preserve-unknown-fields: true
  match:
    type: array
    items:
      type: object
      x-kubernetes-preserve-unknown-fields: true

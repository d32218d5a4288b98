{{!--
  The served versions of a security.istio.io kind: v1beta1 always, v1 from 1.22. Storage moved from
  v1beta1 to v1 in 1.28. Parameters: schema and columns, as for base-crd-version.
--}}
{{#if (semverCompare ">=1.22.0-0" Chart.AppVersion)}}
{{> base-crd-version name="v1" storage=(semverCompare ">=1.28.0-0" Chart.AppVersion)}}
{{/if}}
{{> base-crd-version name="v1beta1" storage=(semverCompare "<1.28.0-0" Chart.AppVersion)}}

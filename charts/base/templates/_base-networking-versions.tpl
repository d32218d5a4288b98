{{!--
  The served versions of a networking.istio.io kind that has more than v1alpha3. Parameters:
  schema and columns (partial names, as for base-crd-version) and beta (the version range in which
  the kind served v1beta1 before every networking kind did, in 1.22). Storage: v1alpha3 until 1.22,
  v1beta1 from 1.23 to 1.26, v1 from 1.27.
--}}
{{#if (semverCompare ">=1.22.0-0" Chart.AppVersion)}}
{{> base-crd-version name="v1" storage=(semverCompare ">=1.27.0-0" Chart.AppVersion)}}
{{/if}}
{{> base-crd-version name="v1alpha3" storage=(semverCompare "<1.23.0-0" Chart.AppVersion)}}
{{#if (or (semverCompare ">=1.22.0-0" Chart.AppVersion) (semverCompare beta Chart.AppVersion))}}
{{> base-crd-version name="v1beta1" storage=(and (semverCompare ">=1.23.0-0" Chart.AppVersion) (semverCompare "<1.27.0-0" Chart.AppVersion))}}
{{/if}}

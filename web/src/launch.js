// The launch page (redirect to the EHR's authorization server). The EHR opens it with
// `iss` (its FHIR base) and `launch` (an opaque id); fhirclient reads both from the URL,
// discovers the endpoints at {iss}/.well-known/smart-configuration and redirects with
// PKCE (S256). Nothing of the patient is on this page.
import FHIR from "fhirclient";

const settings = document.documentElement.dataset;
const status = document.getElementById("status");
const params = new URLSearchParams(window.location.search);

if (!params.get("iss") || !params.get("launch")) {
  status.textContent = "This page is opened by the EHR (SMART launch with iss and launch); " +
    "open the evidence timeline from a card's link.";
  status.classList.add("error");
} else {
  FHIR.oauth2.authorize({
    clientId: settings.clientId,
    scope: settings.scope,
    redirectUri: "app",
    pkceMode: "required",
  }).catch((error) => {
    status.textContent = `The SMART launch failed: ${error.message}`;
    status.classList.add("error");
  });
}

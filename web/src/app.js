// The redirect page: fhirclient completes the code exchange (PKCE verifier, state check),
// then the page asks this service for the timeline with the app's FHIR server and token
// and draws it. The token stays in this tab (fhirclient's sessionStorage) and is sent
// only to the EHR and to /timeline on this service, in the Authorization header.
import FHIR from "fhirclient";
import { drawCharts } from "./charts.js";
import { drawAssessment, drawMigration, showEvidence } from "./panels.js";
import { patientLine } from "./patient.js";

const $ = (id) => document.getElementById(id);

function fail(message) {
  const box = $("status");
  box.textContent = message;
  box.classList.add("error");
  box.hidden = false;
}

function sideFrom(tokenResponse) {
  // appContext (CDS Hooks Link) reaches the app in the token response, as a string
  try {
    const side = JSON.parse(tokenResponse.appContext || "{}").side;
    return ["left", "right", "bilateral"].includes(side) ? side : undefined;
  } catch {
    return undefined;
  }
}

async function fetchTimeline(client) {
  const token = client.state.tokenResponse;
  const response = await fetch("../timeline", {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token.access_token}` },
    body: JSON.stringify({
      fhirServer: client.state.serverUrl, patient: client.patient.id, side: sideFrom(token),
    }),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const text = (body.issue || []).map((i) => i.diagnostics).join("; ");
    throw new Error(`The service answered ${response.status}: ${text || response.statusText}`);
  }
  return body;
}

async function main() {
  let client;
  try {
    client = await FHIR.oauth2.ready();
  } catch (error) {
    fail(`The SMART launch did not complete: ${error.message}. Open the timeline again from the card.`);
    return;
  }
  if (!client.patient.id) {
    fail("The EHR did not give a patient in context (token response without `patient`).");
    return;
  }
  client.patient.read().then((p) => { $("patient").textContent = patientLine(p); })
    .catch(() => { $("patient").textContent = `Patient ${client.patient.id}`; });
  let data;
  try {
    data = await fetchTimeline(client);
  } catch (error) {
    fail(error.message);
    return;
  }
  $("status").hidden = true;
  $("asof").textContent = `as of ${data.today}`;
  const select = (ids, marks) => showEvidence(data, ids, marks);
  drawMigration(data, select);
  drawAssessment(data, select);
  drawCharts(data, select);
  document.body.dataset.ready = "true";
  window.addEventListener("resize", () => drawCharts(data, select));
}

main();

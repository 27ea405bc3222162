// The patient banner: name, birth date and sex from the Patient the token may read, so
// that the clinician sees at once whose timeline this is.
export function patientLine(patient) {
  const name = (patient.name || [])[0] || {};
  const text = name.text || [...(name.given || []), name.family].filter(Boolean).join(" ");
  const parts = [text || `Patient ${patient.id}`];
  if (patient.birthDate) parts.push(`born ${patient.birthDate}`);
  if (patient.gender) parts.push(patient.gender);
  return parts.join(" · ");
}

// The API refuses in English (problem+json: `detail`, and `field` naming the first field at fault). The pages show
// the refusal in Spanish beside that field: the common messages are translated with this table; any other message
// is shown as the API wrote it, so nothing is hidden.

const TABLE = [
  [/for in-person and hybrid instances/, 'Marcá el lugar en el mapa o escribí sus coordenadas: es obligatorio para las instancias presenciales o híbridas.'],
  [/online_url is required for online and hybrid/, 'Escribí el enlace para participar: es obligatorio para las instancias en línea o híbridas.'],
  [/scope_barrio_id is required/, 'Elegí el barrio que abarca, o marcá el lugar en el mapa.'],
  [/scope_district_code is required/, 'Elegí el distrito que abarca, o marcá el lugar en el mapa.'],
  [/venue or online_url is required/, 'Indicá el lugar o el enlace de la actividad (o cargalos en la instancia).'],
  [/moderation_reason is required|a rejection needs a reason/, 'Para rechazar, escribí el motivo: la organización lo va a leer.'],
  [/assessed_by is required/, 'Escribí quién lo comprobó: una evaluación verificada lo necesita.'],
  [/satisfaction .* is required/, 'Elegí un puntaje de 1 a 5.'],
  [/is required$/, 'Este dato es obligatorio.'],
  [/look like \[latitude, longitude\]/, 'La latitud y la longitud parecen invertidas: en Rosario la longitud está cerca de −60,6 y la latitud cerca de −32,9.'],
  [/outside Rosario|outside the range/, 'El lugar queda fuera de Rosario: marcá un punto dentro de algún barrio de la ciudad.'],
  [/must be an absolute URL|starting with http/, 'Escribí una dirección web completa, que empiece con http:// o https://.'],
  [/is not a URL|is not a valid URL|URL scheme/, 'No es una dirección web válida: revisá que no tenga espacios y que empiece con https://.'],
  [/must be one institutional channel/, 'Escribí un solo canal de la organización: un correo, una página web o un teléfono. Los datos de una persona van en las notas privadas.'],
  [/is not a telephone number/, 'No es un número de teléfono válido en la Argentina (por ejemplo: 0341 480-2222).'],
  [/is not an e-mail address/, 'No es una dirección de correo válida.'],
  [/is longer than (\d+) characters/, (m) => `Es demasiado largo: como máximo ${m[1]} caracteres.`],
  [/String should have at least (\d+) characters?/, (m) => (m[1] === '1' ? 'Este dato es obligatorio.' : `Tiene que tener al menos ${m[1]} caracteres.`)],
  [/String should have at most (\d+) characters?/, (m) => `Puede tener como máximo ${m[1]} caracteres.`],
  [/List should have at least 1 item/, 'Elegí al menos una opción.'],
  [/must be one line/, 'Tiene que ser una sola línea, sin saltos de línea.'],
  [/contains a control character/, 'Tiene un carácter no permitido.'],
  [/String should match pattern/, 'Usá solo letras sin tilde, números y los signos : . _ / -'],
  [/valid integer/, 'Tiene que ser un número entero.'],
  [/valid number|finite numbers/, 'Tiene que ser un número.'],
  [/valid datetime/, 'Tiene que ser una fecha y hora válidas.'],
  [/valid date/, 'Tiene que ser una fecha válida.'],
  [/valid boolean/, 'Tiene que ser sí o no.'],
  [/greater than or equal to (\S+)/, (m) => `Tiene que ser ${m[1]} o más.`],
  [/less than or equal to (\S+)/, (m) => `Tiene que ser ${m[1]} o menos.`],
  [/^(?:\S+: )?Input should be '/, 'Elegí una de las opciones.'],
  [/end_date is before start_date/, 'La fecha de fin es anterior a la de inicio.'],
  [/ends_at is before starts_at/, 'El final es anterior al comienzo.'],
  [/due_date is before made_on/, 'El plazo es anterior a la fecha del compromiso.'],
  [/already exists at the same venue/, 'Ya hay una instancia con ese nombre y ese tipo en el mismo lugar.'],
  [/already has an activity/, 'La instancia ya tiene una actividad con ese título a la misma hora.'],
  [/already has an assessment/, 'La instancia ya tiene una evaluación de ese estándar: editá esa.'],
  [/already exists/, 'Ya existe un registro con ese dato.'],
  [/unknown theme/, 'Uno de los temas elegidos no existe.'],
  [/unknown kind/, 'Ese tipo de instancia no existe.'],
  [/is not an activity of instance/, 'Esa actividad no es de esta instancia.'],
  [/is not an experience of instance/, 'Ese registro no es de esta instancia.'],
  [/counts (\d+) people, more than the attendance \((\d+)\)/, (m) => `Suman ${m[1]} personas, más que la asistencia (${m[2]}).`],
  [/does not exist in/, 'El registro elegido no existe.'],
  [/never changes/, 'Este dato no se puede cambiar.'],
  [/not a known time zone/, 'Esa zona horaria no existe.'],
  [/lon and lat must be given together/, 'Escribí la longitud y también la latitud.'],
  [/Extra inputs are not permitted/, 'Este dato no se puede enviar.'],
  [/edit only their own/, 'Solo podés cambiar los registros de tu organización.'],
  [/only under their own/, 'Solo podés agregar registros a las instancias de tu organización.'],
  [/organisation tokens cannot/, 'Esto no lo puede cambiar una organización: pedíselo al equipo del monitor.'],
  [/only editors and admins/, 'Esto lo hace el equipo del monitor (edición o administración).'],
  [/only admins/, 'Esto lo hace la administración del monitor.'],
  [/session has expired|needs a bearer token|unknown or revoked|use Authorization/, 'Tu sesión terminó: volvé a entrar.'],
  [/CSRF/, 'No pudimos comprobar que el pedido venga de esta página: recargala e intentá de nuevo.'],
  [/changed meanwhile|If-Match/, 'Alguien cambió este registro mientras lo editabas.'],
  [/cannot be reached|Retry/, 'El servicio no responde en este momento: no se guardó nada. Probá de nuevo en unos segundos.'],
  [/no live token/, 'Esa clave ya estaba dada de baja.'],
  [/no open invitation/, 'Esa invitación ya se usó o ya estaba dada de baja.'],
  [/no open survey link/, 'Ese enlace ya estaba dado de baja.'],
  [/no organisation/, 'No hay ninguna organización con ese nombre o número.'],
  [/needs its organisation|other roles take none/, 'Una clave de organización necesita su organización (y las demás no llevan).'],
  [/not published/, 'La instancia todavía no está publicada.'],
  [/send the document as one of/, 'Ese tipo de archivo no se admite: subí un PDF, una imagen PNG o JPEG, un texto, un ODT o un DOCX.'],
  [/a document is at most/, 'El archivo es demasiado grande: como máximo 20 MB.'],
  [/the body is the document's bytes; it was empty/, 'El archivo está vacío.'],
  [/network error/, 'No hay conexión con el servicio: revisá tu conexión a internet. No se guardó nada.'],
  [/no \w+ row \d+|Not Found|no feature/, 'No encontramos ese registro: puede que lo hayan borrado.'],
];

export function translate(message) {
  const text = String(message || '').trim();
  for (const [pattern, spanish] of TABLE) {
    const match = text.match(pattern);
    if (match) return typeof spanish === 'function' ? spanish(match) : spanish;
  }
  return text;
}

// "name: String should …; themes: List should …" → [{ field, message }], each beside its field. A part that names
// no known field continues the previous one (a message may itself contain "; "), or takes the problem's `field`.
export function problemsOf(problem, knownFields) {
  // Request validation names the part of the request first ("body.days: …"): the field is what follows.
  const detail = String(problem?.detail || problem?.title || '').replace(/(^|; )(?:body|query|path)\./g, '$1');
  const found = [];
  for (const part of detail.split('; ')) {
    const match = part.match(/^([a-z_][a-z0-9_]*)(?:\.[\w.-]+)?(?:: | )/);
    const named = match && knownFields.has(match[1]) ? match[1] : null;
    if (named) found.push({ field: named, message: part });
    else if (found.length) found[found.length - 1].message += `; ${part}`;
    else found.push({ field: problem?.field ? String(problem.field).split('.')[0] : null, message: part });
  }
  return found.map((p) => ({ ...p, spanish: translate(p.message.replace(/^[a-z_][a-z0-9_.-]*: /, '')), english: p.message }));
}

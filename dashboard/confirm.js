// confirm.js: the dialog (dialog#confirm in index.html) that asks before an
// action acts, with the fields the action takes: a reason, an event's name
// and JSON data, a yes/no option.

const $ = (id) => document.getElementById(id);

/**
 * Shows the dialog. `options`: title, text, and which fields it shows:
 * reason (bool), event (bool: name and data), flag (the option's label, or
 * none). Resolves to null when cancelled, else {reason, eventName,
 * eventData (parsed), flag}.
 */
export function ask({ title, text, reason = false, event = false, flag = '' }) {
  const dialog = $('confirm');
  $('confirm-title').textContent = title;
  $('confirm-text').textContent = text || '';
  $('confirm-error').textContent = '';
  $('confirm-reason-field').hidden = !reason;
  $('confirm-reason').value = '';
  $('confirm-event-name-field').hidden = !event;
  $('confirm-event-data-field').hidden = !event;
  $('confirm-flag-field').hidden = !flag;
  $('confirm-flag-label').textContent = flag;
  $('confirm-flag').checked = false;
  if (event) {
    $('confirm-event-name').value = '';
    $('confirm-event-data').value = 'null';
  }
  return new Promise((resolve) => {
    const ok = $('confirm-ok');
    const cancel = $('confirm-cancel');
    const form = $('confirm-form');
    const done = (answer) => {
      ok.removeEventListener('click', onOk);
      cancel.removeEventListener('click', onCancel);
      dialog.removeEventListener('cancel', onCancel);
      form.removeEventListener('submit', onSubmit);
      if (dialog.open) dialog.close();
      resolve(answer);
    };
    const onCancel = (e) => {
      e.preventDefault();
      done(null);
    };
    const onOk = () => {
      const answer = { reason: $('confirm-reason').value, flag: $('confirm-flag').checked };
      if (event) {
        answer.eventName = $('confirm-event-name').value.trim();
        if (!answer.eventName) {
          $('confirm-error').textContent = 'The event needs a name.';
          return;
        }
        const data = $('confirm-event-data').value.trim();
        try {
          answer.eventData = data ? JSON.parse(data) : null;
        } catch (e) {
          $('confirm-error').textContent = `The event data is not JSON: ${e.message}`;
          return;
        }
      }
      done(answer);
    };
    const onSubmit = (e) => {  // Enter in a field: as OK
      e.preventDefault();
      onOk();
    };
    ok.addEventListener('click', onOk);
    form.addEventListener('submit', onSubmit);
    cancel.addEventListener('click', onCancel);
    dialog.addEventListener('cancel', onCancel);
    dialog.showModal();
    (reason ? $('confirm-reason') : event ? $('confirm-event-name') : cancel).focus();
  });
}

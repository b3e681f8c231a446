// "2 h 5 min left", "starts in 3 days": how the portal tells a user how long a grant lasts. Pure.

function span(ms: number): string {
  const min = Math.max(1, Math.ceil(ms / 60_000));
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60), m = min % 60;
  if (h < 48) return m ? `${h} h ${m} min` : `${h} h`;
  const d = Math.floor(h / 24), rh = h % 24;
  return rh ? `${d} days ${rh} h` : `${d} days`;
}

export function timeLeft(validFrom: Date, validUntil: Date, now: Date): string {
  const t = now.getTime();
  if (validUntil.getTime() <= t) return "ended";
  if (validFrom.getTime() > t) return `starts in ${span(validFrom.getTime() - t)}`;
  return `${span(validUntil.getTime() - t)} left`;
}

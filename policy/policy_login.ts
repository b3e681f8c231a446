// What a policy's login list may hold: a Unix account for SSH, or a Windows login for RDP (user,
// DOMAIN\user, user@domain — windows_login.ts). No whitespace, ':' or '/'; '@' is allowed for UPNs (an SSH
// login never contains one, so such an entry simply never matches an SSH login).
export function isPolicyLogin(text: string): boolean {
  return /^[^\s:/]{1,256}$/.test(text);
}

/** Test-only inputs shared by the unit and fuzz tests of this folder. */

/** A self-signed P-256 certificate (openssl req -x509 -newkey ec, CN=nla-test). */
export const TEST_CERT_PEM = `-----BEGIN CERTIFICATE-----
MIIBfjCCASOgAwIBAgIUf2+KR7FCOUUKKmcAPp2b+GGYHNgwCgYIKoZIzj0EAwIw
EzERMA8GA1UEAwwIbmxhLXRlc3QwIBcNMjYxMjA0MjIzMDU1WhgPMjEyNjExMTAy
MjMwNTVaMBMxETAPBgNVBAMMCG5sYS10ZXN0MFkwEwYHKoZIzj0CAQYIKoZIzj0D
AQcDQgAEZoGv//Oduf4RIr9AEXqqcVbd4bppqJfeJpgo4H0J+WGFqUDQuIei6hHk
cfOa58vzbg9EwEPPA1EVeECVMOj9yKNTMFEwHQYDVR0OBBYEFDObZpdcQbSJicAG
5AnoDb/woNeCMB8GA1UdIwQYMBaAFDObZpdcQbSJicAG5AnoDb/woNeCMA8GA1Ud
EwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSQAwRgIhANoFxt40I21UuEPtgACqzk6X
F7D7L2rpC48uOZ8wApg5AiEAqyzPcicz5dTj8mlpW+qIZ6yqQzt9nj/5Q9v0HXQK
DCw=
-----END CERTIFICATE-----`;

/** Its SubjectPublicKey as `openssl pkey -pubin -outform DER | tail -c 65` prints it. */
export const TEST_CERT_PUBLIC_KEY_HEX =
  "046681affff39db9fe1122bf40117aaa7156dde1ba69a897de269828e07d09f96185a940d0b887a2ea11e471f39ae7cbf36e0f44c043cf03511578409530e8fdc8";

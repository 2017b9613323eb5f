#!/usr/bin/env node
// Prints a first-party session JWT for trying a configured gateway by hand (compose demo, curl).
// Usage: SESSION_JWT_SECRET=... node scripts/session-token.mjs alice [minutes]
import { SignJWT } from 'jose'

const [user = 'alice', minutes = '60'] = process.argv.slice(2)
const secret = process.env.SESSION_JWT_SECRET ?? 'demo-session-secret-compose-only-0123456789'
const token = await new SignJWT({})
  .setProtectedHeader({ alg: 'HS256' })
  .setSubject(user)
  .setIssuedAt()
  .setExpirationTime(`${Number(minutes)}m`)
  .sign(new TextEncoder().encode(secret))
process.stdout.write(`${token}\n`)

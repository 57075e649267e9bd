import { SftpNotEnabledError } from '#sftp/errors';
import type { SftpUserService } from '#sftp/users';
import { defineRoute, Reply, type ApiDependencies, type Route } from '../route.ts';
import {
  addSftpKeyBodySchema,
  addSftpUserBodySchema,
  removedSftpUserSchema,
  sftpKeyQuerySchema,
  sftpUserListSchema,
  sftpUserParamsSchema,
  sftpUserSchema,
} from '../schemas.ts';

/**
 * SFTP users (DESIGN.md "SFTP user"), for admins only: list every user, add and remove users and
 * their keys at run time, without a deploy. In AWS each change is made in Transfer Family as well;
 * locally the SFTP server reads the table at every login, so a change counts at once. Users of the
 * config belong to the stack and are refused here (409).
 */
export const sftpUserRoutes: readonly Route[] = [
  defineRoute({
    method: 'get',
    path: '/sftp-users',
    operationId: 'listSftpUsers',
    summary: 'Lists the SFTP users: those of the config, then those added at run time.',
    tags: ['sftp-users'],
    access: ['admin'],
    response: { description: 'Every SFTP user, with key fingerprints.', schema: sftpUserListSchema },
    errors: [409],
    handle: async (_input, { deps }) => ({ items: await service(deps).list() }),
  }),
  defineRoute({
    method: 'post',
    path: '/sftp-users',
    operationId: 'addSftpUser',
    summary: 'Adds an SFTP user with their datasets and public keys; they can log in at once.',
    description: 'An invalid key, an unknown dataset or a name already taken (in the config or at run time) is refused, saying which.',
    tags: ['sftp-users'],
    access: ['admin'],
    request: { body: addSftpUserBodySchema },
    response: { status: 201, description: 'The user as added.', schema: sftpUserSchema },
    errors: [409],
    handle: async ({ body }, { caller, deps }) => new Reply(await service(deps).add(body, caller.name), 201),
  }),
  defineRoute({
    method: 'get',
    path: '/sftp-users/{name}',
    operationId: 'getSftpUser',
    summary: 'Shows one SFTP user.',
    tags: ['sftp-users'],
    access: ['admin'],
    request: { params: sftpUserParamsSchema },
    response: { description: 'The user.', schema: sftpUserSchema },
    errors: [404, 409],
    handle: async ({ params }, { deps }) => service(deps).get(params.name),
  }),
  defineRoute({
    method: 'delete',
    path: '/sftp-users/{name}',
    operationId: 'removeSftpUser',
    summary: 'Removes an SFTP user added at run time; they cannot log in from then on.',
    description: 'Their files stay in landing, and their uploads keep their outcomes. Users of the config are removed from the config and deployed.',
    tags: ['sftp-users'],
    access: ['admin'],
    request: { params: sftpUserParamsSchema },
    response: { description: 'The user is gone.', schema: removedSftpUserSchema },
    errors: [404, 409],
    handle: async ({ params }, { deps }) => {
      await service(deps).remove(params.name);
      return { name: params.name, removed: true as const };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/sftp-users/{name}/keys',
    operationId: 'addSftpUserKey',
    summary: 'Adds a public key to an SFTP user added at run time (to rotate: add the new key, then remove the old one).',
    tags: ['sftp-users'],
    access: ['admin'],
    request: { params: sftpUserParamsSchema, body: addSftpKeyBodySchema },
    response: { status: 201, description: 'The user with the new key.', schema: sftpUserSchema },
    errors: [404, 409],
    handle: async ({ params, body }, { deps }) => new Reply(await service(deps).addKey(params.name, body.publicKey), 201),
  }),
  defineRoute({
    method: 'delete',
    path: '/sftp-users/{name}/keys',
    operationId: 'removeSftpUserKey',
    summary: 'Removes one public key, named by its fingerprint, from an SFTP user added at run time.',
    description: 'A user keeps at least one key: add the new key before removing the last old one.',
    tags: ['sftp-users'],
    access: ['admin'],
    request: { params: sftpUserParamsSchema, query: sftpKeyQuerySchema },
    response: { description: 'The user without the key.', schema: sftpUserSchema },
    errors: [404, 409],
    handle: async ({ params, query }, { deps }) => service(deps).removeKey(params.name, query.fingerprint),
  }),
];

/** The SFTP user service; an API built without one answers as a stack without SFTP does. */
function service(deps: ApiDependencies): SftpUserService {
  if (!deps.sftpUsers) throw new SftpNotEnabledError();
  return deps.sftpUsers;
}

import { Fragment } from 'preact';
import { ErrorNotice, Loading, useLoad, useSession } from '../components.tsx';
import { instant } from '../format.ts';
import { href } from '../route.ts';
import type { SftpUser } from '../types.ts';

/** The SFTP users (admins only): who may send files by SFTP, to which datasets, with which keys. */
export function SftpUsersPage() {
  const { me } = useSession();
  if (me.role !== 'admin') {
    return (
      <>
        <h1>SFTP users</h1>
        <div role="alert" class="notice warn">
          <p>Only admins see the SFTP users. You are signed in as {me.name} ({me.role}).</p>
        </div>
      </>
    );
  }
  return <SftpUserList />;
}

function SftpUserList() {
  const loaded = useLoad('sftp-users', (api) => api.get<{ items: SftpUser[] }>('sftp-users'));
  return (
    <>
      <h1>SFTP users</h1>
      <p class="lede">
        Users of the config are deployed with the stack; users added at run time (<code>symbiont sftp-users add</code>) can log in at once.
      </p>
      {loaded.state === 'loading' ? <Loading what="the SFTP users" /> : null}
      {loaded.state === 'failed' ? <ErrorNotice error={loaded.error} /> : null}
      {loaded.state === 'done' && loaded.value.items.length === 0 ? <p class="muted">No SFTP users yet.</p> : null}
      {loaded.state === 'done' && loaded.value.items.length > 0 ? (
        <table>
          <caption class="visually-hidden">SFTP users</caption>
          <thead>
            <tr>
              <th scope="col">User</th>
              <th scope="col">Comes from</th>
              <th scope="col">Datasets</th>
              <th scope="col">Keys</th>
              <th scope="col">Added</th>
            </tr>
          </thead>
          <tbody>
            {loaded.value.items.map((u) => (
              <tr key={u.name}>
                <th scope="row">{u.name}</th>
                <td>{u.source === 'config' ? 'the config' : 'added at run time'}</td>
                <td>
                  {u.datasets.map((d, i) => (
                    <Fragment key={d}>
                      {i > 0 ? ', ' : ''}
                      <a href={href.dataset(d)}>{d}</a>
                    </Fragment>
                  ))}
                </td>
                <td>
                  {u.keys.length === 0 ? (
                    <span class="muted">{u.keyFiles?.length ? `key file ${u.keyFiles.join(', ')} (read at start or deploy)` : 'no key'}</span>
                  ) : (
                    <ul class="plain">
                      {u.keys.map((k) => (
                        <li key={k.fingerprint}>
                          {k.type} <code class="wrap">{k.fingerprint}</code>
                          {k.comment ? ` (${k.comment})` : ''}
                        </li>
                      ))}
                    </ul>
                  )}
                </td>
                <td>{u.createdAt ? `${instant(u.createdAt)}${u.createdBy ? ` by ${u.createdBy}` : ''}` : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </>
  );
}

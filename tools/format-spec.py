import json,sys
def dump(v,ind=0,width=110):
    c=json.dumps(v,ensure_ascii=False,separators=(', ',': '))
    if len(c)+ind<=width or not isinstance(v,(dict,list)) or not v: return c
    p=' '*(ind+2)
    if isinstance(v,dict):
        return '{\n'+',\n'.join(p+json.dumps(k,ensure_ascii=False)+': '+dump(x,ind+2,width) for k,x in v.items())+'\n'+' '*ind+'}'
    return '[\n'+',\n'.join(p+dump(x,ind+2,width) for x in v)+'\n'+' '*ind+']'
if __name__=='__main__':
    for f in sys.argv[1:]:
        d=json.load(open(f,encoding='utf-8'),object_pairs_hook=dict)
        open(f,'w',encoding='utf-8').write(dump(d)+'\n')
